; Shell definitions and sourced files for docatlas (extract/tscode.py).

(function_definition name: (word) @name) @definition.function
(command name: (command_name) @call.fn argument: (_) @call.arg) @call
