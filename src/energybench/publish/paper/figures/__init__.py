"""One module per figure, so editing one figure's code remakes only that figure."""
