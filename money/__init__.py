"""The money side's pure logic: tax, documents, the journal; no I/O."""
