"""Dataset presets: public datasets turned into kgrec inputs and an evaluation protocol."""
