; Names a C file uses (extract/crefs.py): calls, type uses, and type definitions (to leave out).
(call_expression function: (identifier) @call)
(call_expression function: (field_expression field: (field_identifier) @member))
(type_identifier) @type
(struct_specifier name: (type_identifier) @def body: (_))
(union_specifier name: (type_identifier) @def body: (_))
(enum_specifier name: (type_identifier) @def body: (_))
(type_definition declarator: (type_identifier) @def)
; Names used as values: a function passed as an argument, its address taken, assigned or used to initialise
; (`link.references` matches these only against functions).
(argument_list (identifier) @value)
(pointer_expression argument: (identifier) @value)
(assignment_expression right: (identifier) @value)
(init_declarator value: (identifier) @value)
(initializer_list (identifier) @value)
(initializer_pair value: (identifier) @value)
(return_statement (identifier) @value)
; Variables, parameters and fields the file declares: a value use of one of these names is not taken for a
; function (crefs.py).
(parameter_declaration declarator: (identifier) @local)
(parameter_declaration declarator: (pointer_declarator declarator: (identifier) @local))
(init_declarator declarator: (identifier) @local)
(init_declarator declarator: (pointer_declarator declarator: (identifier) @local))
(declaration declarator: (identifier) @local)
(declaration declarator: (pointer_declarator declarator: (identifier) @local))
(field_declaration declarator: (field_identifier) @local)
(enumerator name: (identifier) @local)
; Macro bodies: read again as function bodies for the names they use (crefs.py).
(preproc_function_def value: (preproc_arg) @macro_body)
(preproc_def value: (preproc_arg) @macro_body)
