;;;; Raw TCP: the echo protocol, close reasons, writes from callbacks.

(in-package #:c10k/tests)

(in-suite c10k)

(defun start-echo-server (&optional closes)
  "The echo server of examples/echo.lisp; pushes each close reason on the
mailbox CLOSES."
  (c10k:start-tcp-server
   :port 0
   :on-open (lambda (conn) (setf (c10k:connection-data conn) 0))
   :on-data (lambda (conn octets)
              (incf (c10k:connection-data conn) (length octets))
              (c10k:conn-write conn octets))
   :on-close (lambda (conn reason)
               (when closes (mailbox-put closes (list (c10k:connection-data conn) reason))))))

(test echo-protocol
  (let* ((closes (make-mailbox))
         (server (start-echo-server closes)))
    (unwind-protect
         (multiple-value-bind (stream socket) (connect (c10k:server-port server))
           (let ((message (octets (format nil "ping ~A" (make-string 100000 :initial-element #\z)))))
             (write-sequence message stream)
             (finish-output stream)
             (let ((answer (make-array (length message) :element-type '(unsigned-byte 8))))
               (is (= (length message) (read-sequence answer stream)))
               (is (equalp message answer)))
             (sb-bsd-sockets:socket-close socket)
             (is (equal (list (length message) nil) (mailbox-take closes)))))
      (c10k:stop-server server))))

(test tcp-handler-error-aborts-only-that-connection
  (let* ((*error-output* (make-broadcast-stream))
         (server (c10k:start-tcp-server
                  :port 0
                  :on-data (lambda (conn octets)
                             (if (= (aref octets 0) (char-code #\!))
                                 (error "bad input")
                                 (c10k:conn-write conn octets))))))
    (unwind-protect
         (let ((port (c10k:server-port server)))
           (multiple-value-bind (bad bad-socket) (connect port)
             (write-sequence (octets "!") bad)
             (finish-output bad)
             (is (null (ignore-errors (read-byte bad nil))))
             (sb-bsd-sockets:socket-close bad-socket))
           (multiple-value-bind (good socket) (connect port)
             (write-sequence (octets "ok") good)
             (finish-output good)
             (is (= (char-code #\o) (read-byte good)))
             (sb-bsd-sockets:socket-close socket)))
      (c10k:stop-server server))))

(test stop-closes-open-connections
  (let* ((closes (make-mailbox))
         (server (start-echo-server closes)))
    (multiple-value-bind (stream socket) (connect (c10k:server-port server))
      (write-sequence (octets "hi") stream)
      (finish-output stream)
      (is (= (char-code #\h) (read-byte stream)))
      (c10k:stop-server server)
      (is (equal '(2 :ecanceled) (mailbox-take closes)))
      (sb-bsd-sockets:socket-close socket))))
