"""What the instructor wrote: the worksheet spec, problem files and the roster, each
checked by the shared validators, every fault naming its file and place."""
