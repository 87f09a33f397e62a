; Rust definitions and imports for docatlas (extract/tscode.py). `impl` blocks are scopes, not symbols.

(struct_item name: (_) @name) @definition.struct
(enum_item name: (_) @name) @definition.enum
(union_item name: (_) @name) @definition.union
(trait_item name: (_) @name) @definition.trait
(function_item name: (_) @name) @definition.function
(function_signature_item name: (_) @name) @definition.function
(mod_item name: (_) @name) @definition.module
(macro_definition name: (_) @name) @definition.macro
(type_item name: (_) @name) @definition.alias
(const_item name: (_) @name) @definition.constant
(static_item name: (_) @name) @definition.constant
(impl_item type: (_) @name) @scope.impl
(use_declaration argument: (_) @import.source) @import
(extern_crate_declaration name: (_) @import.source) @import
