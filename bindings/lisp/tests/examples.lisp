;;;; The examples, run as their comments say: sbcl --script, then SIGTERM.

(in-package #:c10k/tests)

(in-suite c10k)

(defun free-port ()
  "A port nothing listens on right now."
  (let ((socket (make-instance 'sb-bsd-sockets:inet-socket :type :stream :protocol :tcp)))
    (unwind-protect
         (progn (sb-bsd-sockets:socket-bind socket #(127 0 0 1) 0)
                (nth-value 1 (sb-bsd-sockets:socket-name socket)))
      (sb-bsd-sockets:socket-close socket))))

(defun call-with-example (name function)
  "Starts examples/NAME with sbcl --script on a free port, waits for its
\"listening on\" line, calls FUNCTION with the port, then sends SIGTERM and
returns the first line and the exit code."
  (let* ((port (free-port))
         (address (format nil "127.0.0.1:~D" port))
         (process (sb-ext:run-program
                   "sbcl" (list "--script"
                                (namestring (asdf:system-relative-pathname
                                             "c10k" (format nil "examples/~A" name)))
                                address)
                   :search t :wait nil :output :stream :error nil)))
    (unwind-protect
         (let ((line (read-line (sb-ext:process-output process) nil "")))
           (funcall function port)
           (sb-ext:process-kill process sb-unix:sigterm)
           (sb-ext:process-wait process)
           (values line (sb-ext:process-exit-code process) address))
      (when (sb-ext:process-alive-p process)
        (sb-ext:process-kill process sb-unix:sigkill)
        (sb-ext:process-wait process))
      (sb-ext:process-close process))))

(test hello-example
  (multiple-value-bind (line code address)
      (call-with-example "hello.lisp"
                         (lambda (port)
                           (multiple-value-bind (status headers body) (http port "GET" "/")
                             (is (= 200 status))
                             (is (string= "text/plain" (header "content-type" headers)))
                             (is (string= "Hello, World!" body)))
                           (is (string= "posted" (nth-value 2 (http port "POST" "/echo"
                                                                    :body "posted"))))
                           (is (= 404 (http port "GET" "/other")))))
    (is (string= (format nil "listening on ~A" address) line))
    (is (zerop code) "exit code ~A after SIGTERM" code)))

(test echo-example
  (multiple-value-bind (line code)
      (call-with-example "echo.lisp"
                         (lambda (port)
                           (multiple-value-bind (stream socket) (connect port)
                             (write-sequence (octets "echo me") stream)
                             (finish-output stream)
                             (let ((answer (make-array 7 :element-type '(unsigned-byte 8))))
                               (read-sequence answer stream)
                               (is (string= "echo me" (babel:octets-to-string answer))))
                             (sb-bsd-sockets:socket-close socket))))
    (is (alexandria:starts-with-subseq "listening on" line))
    (is (zerop code))))
