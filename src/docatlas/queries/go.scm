; Go definitions and imports for docatlas (extract/tscode.py).

(function_declaration name: (identifier) @name) @definition.function
(method_declaration receiver: (parameter_list (parameter_declaration type: (_) @receiver)) name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (_) @type) @definition.type
(type_alias name: (type_identifier) @name) @definition.alias
(import_spec path: (_) @import.source) @import
(package_clause (package_identifier) @package)
