;;;; The package Clack looks for: CLACK.HANDLER.<SERVER>.

(defpackage #:clack.handler.c10k
  (:use #:cl)
  (:documentation "Runs Clack/Lack applications on libc10k: RUN serves an
app (a function of the environment plist returning a response) until
stopped; Clack's clackup calls it for :SERVER :C10K.")
  (:export #:run #:stop))
