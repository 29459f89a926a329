"""The AI Energy Score (AES) contract: its model lists in, its file formats out, its figures
computed by its definitions. docs/aes.md describes each format and every deviation."""
