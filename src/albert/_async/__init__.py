"""One variant of the client and of the demo's walk; async is written by hand, sync generated."""
