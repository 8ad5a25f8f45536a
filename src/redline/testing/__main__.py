from redline.testing._fake_server import main

main()
