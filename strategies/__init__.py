"""Built-in customization strategies, one module each; they depend on `advisor`, never the reverse."""
