"""OpenAPI: the official schemas served as v3 and v2, and the unknown-field checks of
``fieldValidation`` over them."""
