from lstm_exam.cli import main

main()
