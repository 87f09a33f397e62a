; Names a C++ or CUDA file uses (extract/crefs.py): calls (kernel launches included), type uses, base classes,
; and type definitions (to leave out).
(call_expression function: (identifier) @call)
(call_expression function: (qualified_identifier) @qcall)
(call_expression function: (field_expression field: (field_identifier) @member))
(call_expression function: (template_function name: (identifier) @call))
(call_expression function: (field_expression field: (template_method name: (field_identifier) @member)))
(type_identifier) @type
(base_class_clause (type_identifier) @subclass)
(base_class_clause (qualified_identifier) @qsubclass)
(struct_specifier name: (type_identifier) @def body: (_))
(class_specifier name: (type_identifier) @def body: (_))
(union_specifier name: (type_identifier) @def body: (_))
(enum_specifier name: (type_identifier) @def body: (_))
(type_definition declarator: (type_identifier) @def)
(alias_declaration name: (type_identifier) @def)
; Names used as values: a function passed as an argument, its address taken, assigned or used to initialise
; (`link.references` matches these only against functions).
(argument_list (identifier) @value)
(argument_list (qualified_identifier) @qvalue)
(pointer_expression argument: (identifier) @value)
(pointer_expression argument: (qualified_identifier) @qvalue)
(assignment_expression right: (identifier) @value)
(init_declarator value: (identifier) @value)
(initializer_list (identifier) @value)
(initializer_list (pointer_expression argument: (qualified_identifier) @qvalue))
(return_statement (identifier) @value)
; Variables, parameters and fields the file declares: a value use of one of these names is not taken for a
; function (crefs.py).
(parameter_declaration declarator: (identifier) @local)
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @local))
(parameter_declaration declarator: (reference_declarator (identifier) @local))
(optional_parameter_declaration declarator: (identifier) @local)
(init_declarator declarator: (identifier) @local)
(init_declarator declarator: (pointer_declarator declarator: (identifier) @local))
(init_declarator declarator: (reference_declarator (identifier) @local))
(declaration declarator: (identifier) @local)
(declaration declarator: (pointer_declarator declarator: (identifier) @local))
(for_range_loop declarator: (identifier) @local)
(field_declaration declarator: (field_identifier) @local)
(enumerator name: (identifier) @local)
; Macro bodies: read again as function bodies for the names they use (crefs.py).
(preproc_function_def value: (preproc_arg) @macro_body)
(preproc_def value: (preproc_arg) @macro_body)
