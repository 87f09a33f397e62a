; Objective-C definitions for docatlas (extract/cfamily.py): the C patterns plus classes, protocols, methods.

(class_interface) @class
(class_implementation) @class
(protocol_declaration) @protocol
(method_declaration) @objc_method
(method_definition) @objc_method
(struct_specifier body: (field_declaration_list)) @struct
(union_specifier body: (field_declaration_list)) @union
(enum_specifier body: (enumerator_list)) @enum
(function_definition) @function
(declaration declarator: (_)) @prototype
(preproc_def) @macro
(preproc_function_def) @macro
(type_definition) @typedef
(preproc_include) @include
