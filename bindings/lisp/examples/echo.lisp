;;;; An echo server over raw TCP, as examples-c/echo.c:
;;;;   sbcl --script bindings/lisp/examples/echo.lisp [ADDR [LOOPS]]
;;;; Sends every byte back; a peer that stops reading makes CONN-WRITE say
;;;; :FULL, and the connection stops reading until its queue drains. With
;;;; LOOPS, that many loops serve on the library's threads. Prints
;;;; "listening on ADDR" when ready; SIGINT or SIGTERM stop it.

(load (merge-pathnames "script.lisp" *load-truename*))
(load-systems "c10k")

(defun echo (connection octets)
  "Writes OCTETS back; pauses reading while the peer is slow to take them."
  (when (eq (c10k:conn-write connection octets) :full)
    (c10k:conn-pause-read connection)))

(let ((arguments (rest sb-ext:*posix-argv*)))
  (serve-example "echo" arguments
                 (lambda (host port on-ready)
                   (c10k:serve :protocol :tcp :host host :port port
                               :loops (and (second arguments) (parse-integer (second arguments)))
                               :on-data #'echo :on-drain #'c10k:conn-resume-read
                               :stop-signals '(:int :term) :on-ready on-ready))))
