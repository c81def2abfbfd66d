"""One reader per model format; each fills an ArtifactRecord from bytes it parses itself."""
