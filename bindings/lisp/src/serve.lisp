;;;; SERVE: a server whose loop runs on the calling thread.

(in-package #:c10k)

(defun serve (&rest options &key (protocol :http) (host "127.0.0.1") (port 8080)
                                  on-ready stop-signals handler loops
                                  on-open on-data on-drain on-close &allow-other-keys)
  "Runs a server on the calling thread and returns it once it stopped: its
handlers run on this thread (with :LOOPS, on the library's threads).
PROTOCOL :HTTP takes the options of START-HTTP-SERVER, :TCP those of
START-TCP-SERVER.

ON-READY is called with the server once it listens (to print its address,
or keep it for STOP-SERVER, which any thread may call). STOP-SIGNALS, a list
of :INT and :TERM, makes those signals stop the server while it runs; SBCL's
own handlers are back afterwards."
  (let ((server (ecase protocol
                  (:http (multiple-value-bind (own settings)
                             (split-http-options
                              (alexandria:remove-from-plist
                               options :protocol :host :port :on-ready :stop-signals :handler))
                           (apply #'open-http-server host port handler settings own)))
                  (:tcp (open-tcp-server host port on-open on-data on-drain on-close loops)))))
    (call-with-signals-stopping server stop-signals
                                (lambda () (run-any-server server on-ready)))
    server))
