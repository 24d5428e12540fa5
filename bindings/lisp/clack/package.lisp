;;;; The package Clack looks for: CLACK.HANDLER.<SERVER>.

(defpackage #:clack.handler.c10k
  (:use #:cl)
  (:documentation "Runs Clack/Lack applications on libc10k: RUN serves an
app (a function of the environment plist returning a response) until
stopped; Clack's clackup calls it for :SERVER :C10K.")
  (:export #:run #:stop))

(defpackage #:clack.handler.c10k.websocket
  (:use #:cl)
  (:documentation "WebSockets for Clack applications on c10k, with the names
and calling conventions of websocket-driver's server side (MAKE-SERVER, ON,
START-CONNECTION, SEND, CLOSE-CONNECTION ...): an application written for
websocket-driver runs with this package in place of WSD. The library does
the protocol; messages arrive whole.")
  (:export #:make-server #:on #:start-connection #:send #:send-text #:send-binary
           #:send-ping #:close-connection #:ready-state #:websocket-p))
