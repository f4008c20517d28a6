// placeholder: the classpage engineer writes this file
