;;;; The hello server, as hello_http.c and the Python example:
;;;;   sbcl --script bindings/lisp/examples/hello.lisp [ADDR [LOOPS]]
;;;; GET / gives 200 "Hello, World!", POST /echo the request body, anything
;;;; else 404. With LOOPS, that many loops serve on the library's threads
;;;; (0: one per CPU). Prints "listening on ADDR" when ready; SIGINT or
;;;; SIGTERM stop it.

(require :asdf)

;; Compiling the dependencies on a first run prints notes: keep stdout for
;; the "listening on" line.
(let ((*standard-output* (make-broadcast-stream))
      (*error-output* (make-broadcast-stream)))
  (handler-bind ((warning #'muffle-warning))
    (asdf:load-asd (merge-pathnames "../c10k.asd" *load-truename*))
    (asdf:load-system "c10k")))

(defun handle (request)
  "The three routes every hello example shares."
  (let ((method (c10k:request-method request))
        (path (c10k:request-path request)))
    (cond ((and (eq method :get) (string= path "/"))
           (values 200 '(("content-type" . "text/plain")) "Hello, World!"))
          ((and (eq method :post) (string= path "/echo"))
           (values 200 '(("content-type" . "application/octet-stream"))
                   (c10k:request-body request)))
          (t
           (values 404 '(("content-type" . "text/plain")) "Not Found")))))

(defun main (arguments)
  (let* ((address (or (first arguments) "127.0.0.1:8080"))
         (colon (position #\: address :from-end t))
         (host (string-trim "[]" (subseq address 0 colon)))
         (port (parse-integer address :start (1+ colon)))
         (loops (and (second arguments) (parse-integer (second arguments)))))
    (handler-case
        (c10k:serve :host host :port port :handler #'handle :loops loops
                    :stop-signals '(:int :term)
                    :on-ready (lambda (server)
                                (format t "listening on ~A~%" (c10k:server-address server))
                                (finish-output)))
      (c10k:c10k-error (e)
        (format *error-output* "hello: ~A: ~A~%" address e)
        (sb-ext:exit :code 1)))))

(main (rest sb-ext:*posix-argv*))
