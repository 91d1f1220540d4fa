"""Each student's variant: the keyed stream, drawing, well-posedness, the class search
and its batch screen."""
