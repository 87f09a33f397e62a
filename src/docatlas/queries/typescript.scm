; TypeScript (and TSX) definitions, imports and test calls for docatlas (extract/tscode.py).

(class_declaration name: (_) @name) @definition.class
(abstract_class_declaration name: (_) @name) @definition.class
(interface_declaration name: (_) @name) @definition.interface
(type_alias_declaration name: (_) @name) @definition.alias
(enum_declaration name: (_) @name) @definition.enum
(internal_module name: (_) @name) @definition.namespace
(module name: (_) @name) @definition.namespace
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(function_signature name: (_) @name) @definition.function
(method_definition name: (_) @name) @definition.method
(method_signature name: (_) @name) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.variable_function
(import_statement source: (string) @import.source) @import
(call_expression function: (identifier) @call.fn arguments: (arguments . (string) @call.arg)) @call
(call_expression function: (import) arguments: (arguments . (string) @import.source)) @import
(call_expression function: (member_expression object: (identifier) @call.fn) arguments: (arguments . [(string) (template_string)] @call.arg)) @call
(call_expression function: (identifier) @call.fn arguments: (arguments . (template_string) @call.arg)) @call
