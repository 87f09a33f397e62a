; C, C++, CUDA and Objective-C definitions for docatlas (extract/cfamily.py).
; Capture names are the symbol kinds the extractor builds; containers are resolved by byte ranges.

(namespace_definition) @namespace
(class_specifier body: (field_declaration_list)) @class
(struct_specifier body: (field_declaration_list)) @struct
(union_specifier body: (field_declaration_list)) @union
(enum_specifier body: (enumerator_list)) @enum
(function_definition) @function
(declaration declarator: (_)) @prototype
(field_declaration declarator: (_)) @prototype
(preproc_def) @macro
(preproc_function_def) @macro
(type_definition) @typedef
(alias_declaration) @alias
(preproc_include) @include
(lambda_expression body: (compound_statement) @local)
