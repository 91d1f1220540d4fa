"""The worksheet folder as a contract: the manifest (written and read back), the CSV
files, the one-item-a-line JSON layout, folders written all or nothing."""
