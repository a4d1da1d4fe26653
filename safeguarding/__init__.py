"""The safeguarding domain: records, rules, checklists and validation, free of SDK and database."""
