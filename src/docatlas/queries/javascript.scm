; JavaScript definitions, imports and test calls for docatlas (extract/tscode.py).
; @definition.<kind> marks the node, @name its name; containers are resolved by byte ranges in Python.

(class_declaration name: (_) @name) @definition.class
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(method_definition name: (_) @name) @definition.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.variable_function
(import_statement source: (string) @import.source) @import
(call_expression function: (identifier) @call.fn arguments: (arguments . (string) @call.arg)) @call
(call_expression function: (import) arguments: (arguments . (string) @import.source)) @import
(call_expression function: (member_expression object: (identifier) @call.fn) arguments: (arguments . [(string) (template_string)] @call.arg)) @call
(call_expression function: (identifier) @call.fn arguments: (arguments . (template_string) @call.arg)) @call
