"""The spec stage: which files are the specs, reading them (YAML 1.2 or JSON), resolving
`$ref`s across files, reading the `x-ciogen-*` extensions, and validating the documents
against the OpenAPI schema.

Nothing here knows the IR: this stage hands the next one a `Workspace` of plain documents.
"""
