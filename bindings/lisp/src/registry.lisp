;;;; Servers by number, passed to C as the user_data of their callbacks: a
;;;; callback finds its server from user_data alone, whichever thread the
;;;; library calls it on (its loop's Lisp thread, or a library thread of a
;;;; multi-loop server, where no Lisp binding of ours is in effect).

(in-package #:c10k)

(defvar *servers* '()
  "An alist number -> server, for every server whose callbacks may still
run. Replaced whole under *SERVERS-LOCK*, never changed in place, so that
callbacks read it without a lock (one per request would cost).")

(defvar *servers-lock* (sb-thread:make-mutex :name "c10k servers"))

(defvar *server-count* (list 0)
  "A cons whose car counts the numbers handed out (atomically).")

(defun register-server (server)
  "Gives SERVER a number its callbacks will find it by, and returns SERVER."
  (let ((id (1+ (sb-ext:atomic-incf (car *server-count*)))))
    (setf (server-id server) id)
    (sb-thread:with-mutex (*servers-lock*)
      (setf *servers* (acons id server *servers*))))
  server)

(defun unregister-server (server)
  "Forgets SERVER's number, once the library can no longer call it back."
  (sb-thread:with-mutex (*servers-lock*)
    (setf *servers* (remove (server-id server) *servers* :key #'car))))

(defun find-server (id)
  "The registered server numbered ID."
  (cdr (assoc id *servers*)))

(defun server-user-data (server)
  "The user_data the library passes back to SERVER's callbacks."
  (cffi:make-pointer (server-id server)))

(defmacro with-callback-server ((user-data) &body body)
  "Runs BODY with *SERVER* and *REPORT-STREAM* bound for the server whose
user_data USER-DATA is, and returns its values. On a library thread it then
blocks the stop signals, its last act before SBCL leaves the callback
(src/signals.lisp says why)."
  `(multiple-value-prog1
       (let* ((*server* (find-server (cffi:pointer-address ,user-data)))
              (*report-stream* (server-report-stream *server*)))
         ,@body)
     (when (foreign-thread-p) (block-stop-signals))))
