"""One variant of the client; `albert._async` is hand-written, `albert._sync` generated from it."""
