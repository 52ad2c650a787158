//! Letters: Typst templates per step and language rendered to deterministic A4 PDF with embedded fonts and the EPC QR code (issue #5).
