"""Files into checked documents, the language's lowest floor: a path into the series' YAML
(``series``, ``load``; ``plainyaml`` fast, libyaml the rest; ``parsecache`` skips what is
unchanged), then its JSON Schema (``schemacheck``, ``schemacode`` keeps the compiled validators) and
the values read as written: language tags (``tags``), episode ranges (``ranges``), colours, URLs and
``data:`` URIs (``literals``). It imports only ``document``, ``request`` and ``storedform``.
"""
