;;;; The binding's own API for streams: streamed replies from other
;;;; threads, an aborted reply, streamed request bodies, handlers looked up
;;;; by name at each request, debug answers, the access log, and TCP on
;;;; several loops.

(in-package #:c10k/tests)

(in-suite c10k)

(test streamed-reply-from-another-thread
  (with-http-server (server (lambda (request)
                              (let ((reply (c10k:defer-reply request))
                                    (path (c10k:request-path request)))
                                (bt:make-thread
                                 (lambda ()
                                   (if (string= path "/sized")
                                       (progn (c10k:start-reply reply 200 '(("content-type" . "text/plain"))
                                                                :content-length 10)
                                              (c10k:write-reply reply "01234")
                                              (c10k:write-reply reply (octets "56789")))
                                       (progn (c10k:start-reply reply 200 '(("content-type" . "text/plain")))
                                              (dotimes (i 4) (c10k:write-reply reply (format nil "<~D>" i)))))
                                   (c10k:end-reply reply)))
                                nil)))
    (let ((port (c10k:server-port server)))
      (multiple-value-bind (status headers body) (http port "GET" "/chunked")
        (is (= 200 status))
        (is (string= "chunked" (header "transfer-encoding" headers)))
        (is (string= "<0><1><2><3>" (dechunk body))))
      (multiple-value-bind (status headers body) (http port "GET" "/sized")
        (is (= 200 status))
        (is (string= "10" (header "content-length" headers)))
        (is (string= "0123456789" body))))))

(test aborted-reply-resets-the-connection
  ;; A stream that fails half-way must not look complete to the client.
  (with-http-server (server (lambda (request)
                              (let ((reply (c10k:defer-reply request)))
                                (bt:make-thread
                                 (lambda ()
                                   (c10k:start-reply reply 200 nil :content-length 100)
                                   (c10k:write-reply reply "only part")
                                   (sleep 0.05)
                                   (c10k:abort-reply reply)))
                                nil)))
    (multiple-value-bind (stream socket) (connect (c10k:server-port server))
      (unwind-protect
           (progn
             (write-sequence (octets (format nil "GET / HTTP/1.1~C~CHost: t~C~C~C~C"
                                             #\Return #\Newline #\Return #\Newline
                                             #\Return #\Newline))
                             stream)
             (finish-output stream)
             (let ((received (handler-case (read-all stream)
                               (error () :reset))))
               (is (eq :reset received) "the client got ~S, not a reset" received)))
        (sb-bsd-sockets:socket-close socket)))))

(test streamed-request-body
  (let ((sizes (make-mailbox)))
    (with-http-server (server (lambda (request)
                                (let* ((body (c10k:request-body-stream request))
                                       (reply (c10k:defer-reply request)))
                                  (bt:make-thread
                                   (lambda ()
                                     (let ((buffer (make-array 4096 :element-type '(unsigned-byte 8)))
                                           (total 0))
                                       (loop for n = (read-sequence buffer body)
                                             do (incf total n)
                                             while (= n 4096))
                                       (mailbox-put sizes total)
                                       (c10k:send-reply reply 200 nil (princ-to-string total)))))
                                  nil))
                              :stream-bodies t)
      (let ((port (c10k:server-port server))
            (text (make-string 700000 :initial-element #\z)))
        (is (string= "700000" (nth-value 2 (http port "POST" "/" :body text))))
        (is (eql 700000 (mailbox-take sizes)))
        (is (string= "0" (nth-value 2 (http port "GET" "/"))))))))

(defun live-handler (request)
  (declare (ignore request))
  (values 200 nil "before"))

(test handler-symbol-is-looked-up-at-each-request
  (with-http-server (server 'live-handler)
    (let ((port (c10k:server-port server)))
      (is (string= "before" (nth-value 2 (http port "GET" "/"))))
      (quietly-eval '(defun live-handler (request) (declare (ignore request)) (values 200 nil "after")))
      (is (string= "after" (nth-value 2 (http port "GET" "/"))))))
  (quietly-eval '(defun live-handler (request) (declare (ignore request)) (values 200 nil "before"))))

(test debug-answers-the-backtrace
  (let ((*error-output* (make-broadcast-stream)))
    (with-http-server (server (lambda (request)
                                (declare (ignore request))
                                (error "deliberate failure"))
                              :debug t)
      (multiple-value-bind (status headers body) (http (c10k:server-port server) "GET" "/")
        (declare (ignore headers))
        (is (= 500 status))
        (is (search "deliberate failure" body))
        (is (search "Backtrace" body))))))

(test tcp-echo-on-two-loops
  (let ((server (c10k:start-tcp-server :loops 2
                                       :on-data (lambda (connection data)
                                                  (c10k:conn-write connection data)))))
    (unwind-protect
         (let ((port (c10k:server-port server)))
           (dotimes (i 20)
             (multiple-value-bind (stream socket) (connect port)
               (let ((message (octets (format nil "message ~D" i))))
                 (write-sequence message stream)
                 (finish-output stream)
                 (let ((answer (make-array (length message) :element-type '(unsigned-byte 8))))
                   (read-sequence answer stream)
                   (is (equalp message answer))))
               (sb-bsd-sockets:socket-close socket)))
           (is (= 2 (length (nth-value 1 (c10k:server-stats server))))))
      (c10k:stop-server server))
    (is (not (c10k:server-running-p server)))))
