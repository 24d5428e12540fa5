;;;; The hello server, as hello_http.c and the Python example:
;;;;   sbcl --script bindings/lisp/examples/hello.lisp [ADDR [LOOPS]]
;;;; GET / gives 200 "Hello, World!", POST /echo the request body, anything
;;;; else 404. With LOOPS, that many loops serve on the library's threads
;;;; (0: one per CPU). Prints "listening on ADDR" when ready; SIGINT or
;;;; SIGTERM stop it.

(load (merge-pathnames "script.lisp" *load-truename*))
(load-systems "c10k")

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

(let ((arguments (rest sb-ext:*posix-argv*)))
  (serve-example "hello" arguments
                 (lambda (host port on-ready)
                   (c10k:serve :host host :port port :handler 'handle
                               :loops (and (second arguments) (parse-integer (second arguments)))
                               :stop-signals '(:int :term) :on-ready on-ready))))
