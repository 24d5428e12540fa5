;;;; WebSockets over real sockets, driven by Python's websockets client
;;;; (tests/ws_client.py): the binding's API and the websocket-driver-style
;;;; API for Clack applications.

(in-package #:c10k/tests)

(in-suite c10k)

(defun websocket-handler (&rest options)
  "An HTTP handler accepting every WebSocket request with OPTIONS."
  (lambda (request)
    (if (c10k:websocket-request-p request)
        (progn (apply #'c10k:accept-websocket request options) nil)
        (values 426 '(("content-type" . "text/plain")) "WebSocket only"))))

(defun python-says (expected script-arguments)
  "Runs ws_client.py with SCRIPT-ARGUMENTS and checks it printed EXPECTED."
  (multiple-value-bind (output code) (apply #'run-python "ws_client.py" script-arguments)
    (is (eql 0 code) "ws_client.py ~{~A ~}exited with ~A: ~A" script-arguments code output)
    (is (search expected output) "ws_client.py ~{~A ~}said: ~A" script-arguments output)))

(test websocket-echo-with-python-websockets
  (let ((closes (make-mailbox)))
    (with-http-server (server (websocket-handler
                               :on-message (lambda (ws message) (c10k:ws-send ws message))
                               :on-close (lambda (ws code reason)
                                           (declare (ignore ws))
                                           (mailbox-put closes (list code reason)))))
      (python-says "echo ok" (list "echo" (c10k:server-port server) "/any/path"))
      (is (equal '(4000 "bye") (mailbox-take closes 30)))
      (is (= 426 (http (c10k:server-port server) "GET" "/"))))))

(test websocket-closed-by-the-server
  (let ((closes (make-mailbox))
        (after-close (make-mailbox)))
    (with-http-server (server (websocket-handler
                               :on-message (lambda (ws message)
                                             (declare (ignore message))
                                             (c10k:ws-close ws 4001 "server bye")
                                             (mailbox-put after-close
                                                          (list (c10k:websocket-open-p ws)
                                                                (c10k:ws-send ws "too late"))))
                               :on-close (lambda (ws code reason)
                                           (declare (ignore ws))
                                           (mailbox-put closes (list code reason)))))
      (python-says "closed 4001 server bye" (list "server-close" (c10k:server-port server)))
      (is (equal '(nil nil) (mailbox-take after-close 30)) "open-p and ws-send after ws-close")
      (is (eql 4001 (first (mailbox-take closes 30)))))))

(test websocket-sends-from-another-thread-in-order
  (with-http-server (server (websocket-handler
                             :on-message (lambda (ws message)
                                           (let ((n (parse-integer message :start 5)))
                                             (bt:make-thread
                                              (lambda ()
                                                (dotimes (i n)
                                                  (c10k:ws-send ws (format nil "push ~D" i)))))))))
    (python-says "pushes ok" (list "pushes" (c10k:server-port server) 500))))

(test websocket-broadcast-reaches-every-client
  (let ((room '())
        (lock (bt:make-lock))
        (counts (make-mailbox)))
    (with-http-server (server (websocket-handler
                               :on-open (lambda (ws) (bt:with-lock-held (lock) (push ws room)))
                               :on-message (lambda (ws message)
                                             (declare (ignore ws))
                                             (mailbox-put counts
                                                          (c10k:ws-broadcast
                                                           (bt:with-lock-held (lock) (copy-list room))
                                                           message)))
                               :on-close (lambda (ws code reason)
                                           (declare (ignore code reason))
                                           (bt:with-lock-held (lock)
                                             (setf room (remove ws room))))))
      (python-says "broadcast ok" (list "broadcast" (c10k:server-port server) 20))
      (is (equal (make-list 20 :initial-element 20)
                 (loop repeat 20 collect (mailbox-take counts 30)))))))

(test websocket-handler-error-closes-with-1011
  (let ((closes (make-mailbox))
        (*error-output* (make-broadcast-stream)))
    (with-http-server (server (websocket-handler
                               :on-message (lambda (ws message)
                                             (declare (ignore ws message))
                                             (error "failed on a message"))
                               :on-close (lambda (ws code reason)
                                           (declare (ignore ws reason))
                                           (mailbox-put closes code))))
      (python-says "closed 1011" (list "server-close" (c10k:server-port server)))
      (is (eql 1011 (mailbox-take closes 30))))))

(defun wsd-echo-app (env)
  "A Clack application written as for websocket-driver: echo, and close on
\"close me\"."
  (let ((ws (clack.handler.c10k.websocket:make-server env)))
    (clack.handler.c10k.websocket:on
     :message ws (lambda (message)
                   (if (equal message "close me")
                       (clack.handler.c10k.websocket:close-connection ws "server bye" 4001)
                       (clack.handler.c10k.websocket:send ws message))))
    (lambda (responder)
      (declare (ignore responder))
      (clack.handler.c10k.websocket:start-connection ws))))

(test clack-websocket-driver-style-echo
  (with-clack-app (port #'wsd-echo-app)
    (python-says "echo ok" (list "echo" port "/chat"))
    (python-says "closed 4001 server bye" (list "server-close" port))))
