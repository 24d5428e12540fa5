;;;; The benchmark peer: examples/hello.lisp's routes on Hunchentoot
;;;; (Debian's cl-hunchentoot, a thread per connection), same SBCL.
;;;;   sbcl --script bindings/lisp/bench/hunchentoot-hello.lisp [ADDR]

(require :asdf)

(let ((*standard-output* (make-broadcast-stream))
      (*error-output* (make-broadcast-stream)))
  (handler-bind ((warning #'muffle-warning))
    (asdf:load-system "hunchentoot")))

(defclass hello-acceptor (hunchentoot:acceptor) ()
  (:documentation "An acceptor whose only handler is HANDLE."))

(defun handle ()
  "The three routes every hello example shares."
  (let ((method (hunchentoot:request-method*))
        (path (hunchentoot:script-name*)))
    (cond ((and (eq method :get) (string= path "/"))
           (setf (hunchentoot:content-type*) "text/plain")
           "Hello, World!")
          ((and (eq method :post) (string= path "/echo"))
           (setf (hunchentoot:content-type*) "application/octet-stream")
           (or (hunchentoot:raw-post-data :force-binary t)
               (make-array 0 :element-type '(unsigned-byte 8))))
          (t
           (setf (hunchentoot:return-code*) 404
                 (hunchentoot:content-type*) "text/plain")
           "Not Found"))))

(defmethod hunchentoot:acceptor-dispatch-request ((acceptor hello-acceptor) request)
  (declare (ignore request))
  (handle))

(defun main (arguments)
  (let* ((address (or (first arguments) "127.0.0.1:8080"))
         (colon (position #\: address :from-end t))
         (acceptor (make-instance 'hello-acceptor
                                  :address (subseq address 0 colon)
                                  :port (parse-integer address :start (1+ colon))
                                  :access-log-destination nil)))
    (hunchentoot:start acceptor)
    ;; A plain exit would wait for every connection thread to unwind.
    (dolist (signal (list sb-unix:sigint sb-unix:sigterm))
      (sb-sys:enable-interrupt signal (lambda (&rest arguments)
                                        (declare (ignore arguments))
                                        (sb-ext:exit :code 0 :abort t))))
    (format t "listening on ~A~%" address)
    (finish-output)
    (loop (sleep 60))))

(main (rest sb-ext:*posix-argv*))
