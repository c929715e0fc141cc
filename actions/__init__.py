"""rasa-sdk action handlers. Thin: the work lives in `knowledge`."""
