import sys

from keras_seminar.cli import main

sys.exit(main())
