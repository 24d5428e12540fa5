;;;; An echo server over raw TCP, as examples-c/echo.c:
;;;;   sbcl --script bindings/lisp/examples/echo.lisp [ADDR]
;;;; Sends every byte back; a peer that stops reading makes CONN-WRITE say
;;;; :FULL, and the connection stops reading until its queue drains.
;;;; Prints "listening on ADDR" when ready; SIGINT or SIGTERM stop it.

(require :asdf)

;; Compiling the dependencies on a first run prints notes: keep stdout for
;; the "listening on" line.
(let ((*standard-output* (make-broadcast-stream))
      (*error-output* (make-broadcast-stream)))
  (handler-bind ((warning #'muffle-warning))
    (asdf:load-asd (merge-pathnames "../c10k.asd" *load-truename*))
    (asdf:load-system "c10k")))

(defun echo (connection octets)
  "Writes OCTETS back; pauses reading while the peer is slow to take them."
  (when (eq (c10k:conn-write connection octets) :full)
    (c10k:conn-pause-read connection)))

(defun main (arguments)
  (let* ((address (or (first arguments) "127.0.0.1:8080"))
         (colon (position #\: address :from-end t)))
    (handler-case
        (c10k:serve :protocol :tcp
                    :host (string-trim "[]" (subseq address 0 colon))
                    :port (parse-integer address :start (1+ colon))
                    :on-data #'echo
                    :on-drain #'c10k:conn-resume-read
                    :stop-signals '(:int :term)
                    :on-ready (lambda (server)
                                (format t "listening on ~A~%" (c10k:server-address server))
                                (finish-output)))
      (c10k:c10k-error (e)
        (format *error-output* "echo: ~A: ~A~%" address e)
        (sb-ext:exit :code 1)))))

(main (rest sb-ext:*posix-argv*))
