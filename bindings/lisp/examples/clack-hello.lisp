;;;; The hello routes as a Lack application, served by the Clack handler
;;;; (clack.handler.c10k:run, without Clack itself):
;;;;   sbcl --script bindings/lisp/examples/clack-hello.lisp [ADDR [LOOPS]]
;;;; GET / gives 200 "Hello, World!", POST /echo the request body, anything
;;;; else 404. With Clack installed, (clack:clackup #'app :server :c10k)
;;;; serves the same application. Prints "listening on ADDR" when ready;
;;;; SIGINT or SIGTERM stop it.

(require :asdf)

;; Compiling the dependencies on a first run prints notes: keep stdout for
;; the "listening on" line.
(let ((*standard-output* (make-broadcast-stream))
      (*error-output* (make-broadcast-stream)))
  (handler-bind ((warning #'muffle-warning))
    (asdf:load-asd (merge-pathnames "../c10k.asd" *load-truename*))
    (asdf:load-asd (merge-pathnames "../clack-handler-c10k.asd" *load-truename*))
    (asdf:load-system "clack-handler-c10k")))

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

(defun main (arguments)
  (let* ((address (or (first arguments) "127.0.0.1:8080"))
         (colon (position #\: address :from-end t)))
    (handler-case
        (clack.handler.c10k:run 'app
                                :address (string-trim "[]" (subseq address 0 colon))
                                :port (parse-integer address :start (1+ colon))
                                :loops (and (second arguments) (parse-integer (second arguments)))
                                :stop-signals '(:int :term)
                                :on-ready (lambda (server)
                                            (format t "listening on ~A~%" (c10k:server-address server))
                                            (finish-output)))
      (c10k:c10k-error (e)
        (format *error-output* "clack-hello: ~A: ~A~%" address e)
        (sb-ext:exit :code 1)))))

(main (rest sb-ext:*posix-argv*))
