;;;; What the example scripts share, loaded first by each: loading the
;;;; binding quietly (stdout is kept for the "listening on" line), and
;;;; reading ADDR, announcing it, and leaving with status 1 when it cannot
;;;; be bound.

(require :asdf)

(defvar *examples* (make-pathname :name nil :type nil :defaults *load-truename*)
  "The directory of the examples.")

(defun load-systems (&rest names)
  "Loads the systems NAMES of the binding without printing compiler notes."
  (let ((*standard-output* (make-broadcast-stream))
        (*error-output* (make-broadcast-stream)))
    (handler-bind ((warning #'muffle-warning))
      (dolist (asd '("../c10k.asd" "../clack-handler-c10k.asd"))
        (asdf:load-asd (merge-pathnames asd *examples*)))
      (mapc #'asdf:load-system names))))

(defun serve-example (name arguments serve)
  "Calls SERVE with the host and port of ADDR, the first of ARGUMENTS
(default 127.0.0.1:8080), and an :ON-READY function printing \"listening
on ADDR\". An error (the address in use) is printed and exits with 1."
  (let* ((address (or (first arguments) "127.0.0.1:8080"))
         (colon (position #\: address :from-end t)))
    (handler-case
        (funcall serve
                 (string-trim "[]" (subseq address 0 colon))
                 (parse-integer address :start (1+ colon))
                 (lambda (server)
                   (format t "listening on ~A~%" (uiop:symbol-call :c10k :server-address server))
                   (finish-output)))
      (error (e)
        (format *error-output* "~A: ~A: ~A~%" name address e)
        (sb-ext:exit :code 1)))))
