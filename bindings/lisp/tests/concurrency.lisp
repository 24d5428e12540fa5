;;;; Hundreds of clients at once, from python3 threads.

(in-package #:c10k/tests)

(in-suite c10k)

(test five-hundred-concurrent-clients
  (with-http-server (server #'hello-handler)
    (multiple-value-bind (output code)
        (run-python "concurrent_clients.py" (princ-to-string (c10k:server-port server)) "500")
      (is (zerop code))
      (is (search "500 ok" output) "python3 said: ~A" output))))
