;;;; The hello routes as a Lack application, served by the Clack handler
;;;; (clack.handler.c10k:run, without Clack itself):
;;;;   sbcl --script bindings/lisp/examples/clack-hello.lisp [ADDR [LOOPS]]
;;;; GET / gives 200 "Hello, World!", POST /echo the request body (read from
;;;; :RAW-BODY as it arrives), anything else 404. With Clack installed,
;;;; (clack:clackup 'app :server :c10k) serves the same application.
;;;; Prints "listening on ADDR" when ready; SIGINT or SIGTERM stop it.

(load (merge-pathnames "script.lisp" *load-truename*))
(load-systems "clack-handler-c10k")

(defun app (env)
  "The three routes every hello example shares."
  (let ((method (getf env :request-method))
        (path (getf env :path-info)))
    (cond ((and (eq method :get) (string= path "/"))
           '(200 (:content-type "text/plain") ("Hello, World!")))
          ((and (eq method :post) (string= path "/echo"))
           (let ((body (make-array (or (getf env :content-length) 0)
                                   :element-type '(unsigned-byte 8))))
             (read-sequence body (getf env :raw-body))
             `(200 (:content-type "application/octet-stream") ,body)))
          (t '(404 (:content-type "text/plain") ("Not Found"))))))

(let ((arguments (rest sb-ext:*posix-argv*)))
  (serve-example "clack-hello" arguments
                 (lambda (host port on-ready)
                   (clack.handler.c10k:run 'app :address host :port port
                                           :loops (and (second arguments)
                                                       (parse-integer (second arguments)))
                                           :stop-signals '(:int :term) :on-ready on-ready))))
