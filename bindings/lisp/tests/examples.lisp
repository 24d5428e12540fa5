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

(cffi:defcfun ("syscall" %syscall) :long (number :long) &rest)

(defun thread-id (pid name)
  "The id of the thread called NAME (as /proc shows it) of process PID, or NIL."
  (loop for task in (directory (format nil "/proc/~D/task/*/" pid))
        for id = (car (last (pathname-directory task)))
        when (string= name (string-trim '(#\Newline)
                                        (ignore-errors
                                         (uiop:read-file-string (merge-pathnames "comm" task)))))
          return (parse-integer id)))

(defun send-signal (process signal thread)
  "Sends SIGNAL to PROCESS, or with THREAD (a name such as \"c10k-loop-0\")
to that thread of it, as the kernel may pick any thread for a signal."
  (let ((id (and thread (thread-id (sb-ext:process-pid process) thread))))
    (if id
        (%syscall 234 :int (sb-ext:process-pid process) :int id :int signal) ; SYS_tgkill
        (sb-ext:process-kill process signal))))

(defun call-with-example (name function &key arguments (signal sb-unix:sigterm) thread
                                             under-load)
  "Starts examples/NAME with sbcl --script on a free port and ARGUMENTS,
waits for its \"listening on\" line, calls FUNCTION with the port, then
sends SIGNAL (SIGTERM by default; UNDER-LOAD, while clients keep sending
requests) and returns the first line and the exit code, NIL if the example
had not exited 10 s later."
  (let* ((port (free-port))
         (address (format nil "127.0.0.1:~D" port))
         (process (sb-ext:run-program
                   "sbcl" (list* "--script"
                                 (namestring (asdf:system-relative-pathname
                                              "c10k" (format nil "examples/~A" name)))
                                 address arguments)
                   :search t :wait nil :output :stream :error nil)))
    (unwind-protect
         (let ((line (read-line (sb-ext:process-output process) nil "")))
           (funcall function port)
           (flet ((signal-and-wait ()
                    (send-signal process signal thread)
                    (loop repeat 1000 while (sb-ext:process-alive-p process) do (sleep 0.01))))
             (if under-load
                 (call-with-load port #'signal-and-wait)
                 (signal-and-wait)))
           (values line
                   (unless (sb-ext:process-alive-p process) (sb-ext:process-exit-code process))
                   address))
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

(test hello-example-on-two-loops
  (multiple-value-bind (line code)
      (call-with-example "hello.lisp"
                         (lambda (port)
                           (is (string= "Hello, World!" (nth-value 2 (http port "GET" "/"))))
                           (is (= 404 (http port "GET" "/other"))))
                         :arguments '("2"))
    (is (alexandria:starts-with-subseq "listening on" line))
    (is (zerop code) "exit code ~A after SIGTERM" code)))

(defun call-with-load (port function)
  "Calls FUNCTION while four threads send requests to PORT as fast as they can."
  (let* ((done nil)
         (threads (loop repeat 4
                        collect (bt:make-thread
                                 (lambda ()
                                   (loop until done
                                         do (ignore-errors (http port "GET" "/"))))))))
    (unwind-protect (funcall function)
      (setf done t)
      (mapc #'bt:join-thread threads))))

(test signals-stop-two-loops-under-load
  ;; A signal may land on a library thread in the middle of a callback, or
  ;; as SBCL leaves one (where SBCL itself drops a deferred interrupt): the
  ;; example must still stop, every time. SIGINT and SIGTERM go to the
  ;; process (the kernel picks the thread) while clients keep both loops
  ;; busy, then to one loop's thread once the load is over.
  (dotimes (i 12)
    (let* ((under-load (< i 8))
           (code (nth-value 1 (call-with-example
                               "hello.lisp"
                               (lambda (port)
                                 (call-with-load port (lambda () (sleep 0.2))))
                               :arguments '("2")
                               :under-load under-load
                               :signal (if (evenp i) sb-unix:sigint sb-unix:sigterm)
                               :thread (unless under-load
                                         (format nil "c10k-loop-~D" (mod i 2)))))))
      (is (eql 0 code) "round ~D: exit code ~A (NIL: still running 10 s after the signal)"
          i code))))

(test clack-hello-example-on-two-loops
  (multiple-value-bind (line code)
      (call-with-example "clack-hello.lisp"
                         (lambda (port)
                           (is (string= "Hello, World!" (nth-value 2 (http port "GET" "/"))))
                           (is (string= "posted" (nth-value 2 (http port "POST" "/echo"
                                                                    :body "posted"))))
                           (is (= 404 (http port "GET" "/other")))
                           (multiple-value-bind (output code)
                               (run-python "concurrent_clients.py" (princ-to-string port) "300")
                             (is (zerop code))
                             (is (search "300 ok" output) "python3 said: ~A" output)))
                         :arguments '("2") :signal sb-unix:sigint)
    (is (alexandria:starts-with-subseq "listening on" line))
    (is (zerop code) "exit code ~A after SIGINT" code)))

(test websocket-echo-example
  (multiple-value-bind (line code)
      (call-with-example "websocket-echo.lisp"
                         (lambda (port)
                           (python-says "echo ok" (list "echo" port "/"))
                           (is (= 426 (http port "GET" "/")))))
    (is (alexandria:starts-with-subseq "listening on" line))
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
