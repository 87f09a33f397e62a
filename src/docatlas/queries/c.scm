; C definitions for docatlas (extract/cfamily.py); the C grammar has no namespaces, classes or lambdas.

(struct_specifier body: (field_declaration_list)) @struct
(union_specifier body: (field_declaration_list)) @union
(enum_specifier body: (enumerator_list)) @enum
(function_definition) @function
(declaration declarator: (_)) @prototype
(field_declaration declarator: (_)) @prototype
(preproc_def) @macro
(preproc_function_def) @macro
(type_definition) @typedef
(preproc_include) @include
