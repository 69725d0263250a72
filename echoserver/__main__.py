from echoserver.cli import main

main()
