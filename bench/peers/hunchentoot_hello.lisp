;;;; Peer for the hosts scenario: Hunchentoot on SBCL, behaving like the c10k
;;;; hello examples: GET / -> 200 "Hello, World!" (text/plain), POST /echo ->
;;;; the body, anything else 404. Access log off, keep-alive on.
;;;;
;;;; usage: sbcl --script bench/peers/hunchentoot_hello.lisp [HOST:PORT]

(require :asdf)
;; Plain HTTP only: skip cl+ssl and the libssl it would load.
(push :hunchentoot-no-ssl *features*)
(asdf:load-system :hunchentoot)

(defpackage :hello-peer (:use :cl))
(in-package :hello-peer)

(defun parse-address (text)
  (let ((colon (position #\: text :from-end t)))
    (values (subseq text 0 colon) (parse-integer text :start (1+ colon)))))

(defclass hello-acceptor (hunchentoot:acceptor) ())

(defmethod hunchentoot:acceptor-dispatch-request ((acceptor hello-acceptor) request)
  (let ((path (hunchentoot:script-name request))
        (method (hunchentoot:request-method request)))
    (setf (hunchentoot:content-type*) "text/plain")
    (cond ((and (eq method :get) (string= path "/"))
           "Hello, World!")
          ((and (eq method :post) (string= path "/echo"))
           (setf (hunchentoot:content-type*) "application/octet-stream")
           (or (hunchentoot:raw-post-data :request request :force-binary t)
               (make-array 0 :element-type '(unsigned-byte 8))))
          (t
           (setf (hunchentoot:return-code*) hunchentoot:+http-not-found+)
           "Not Found"))))

(multiple-value-bind (host port)
    (parse-address (or (second sb-ext:*posix-argv*) "127.0.0.1:8080"))
  (hunchentoot:start
   (make-instance 'hello-acceptor :address host :port port
                                  :access-log-destination nil
                                  :message-log-destination *error-output*
                                  :listen-backlog 4096))
  (format t "listening on ~a:~a~%" host port)
  (finish-output)
  ;; --script ends SBCL at the end of the file; the acceptor runs in its own
  ;; threads, so keep the main thread parked until we are killed.
  (loop (sleep 3600)))
