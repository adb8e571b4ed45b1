"""Template tags for thumbnail URLs and <picture> markup; see ../README.md."""
