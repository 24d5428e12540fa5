;;;; Answers: a handler's (values status headers body) for the request in
;;;; hand, and deferred replies completed later from any thread.

(in-package #:c10k)

(defun check-status (status)
  "STATUS if it is an HTTP status code, else an error naming it."
  (if (typep status '(integer 100 999))
      status
      (error "A handler returned ~S as the status: return (values status headers body) ~
              with a status from 100 to 999." status)))

(defun gone-p (code)
  "True for the codes that mean the client has left: nothing to answer."
  (or (= code +eclosed+) (= code +epipe+)))

(defun file-error-answer (code)
  "The status and body answering a file that could not be opened, or NIL."
  (cond ((or (= code +enoent+) (= code +eisdir+)) (values 404 "Not Found"))
        ((= code +eacces+) (values 403 "Forbidden"))))

(defun respond (request status headers body)
  "Answers the live REQUEST. BODY is a string (sent as UTF-8), an octet
vector (read in place: a simple one is not copied on the Lisp side), NIL, or
a pathname (sent with sendfile; 404 or 403 if it cannot be opened)."
  (let ((pointer (live-pointer request))
        (status (check-status status)))
    (with-header-array (array count) headers
      (let ((code (if (pathnamep body)
                      (c10k-respond-path pointer status array count
                                         (uiop:native-namestring (merge-pathnames body)))
                      (with-octets (data length) (body-octets body)
                        (c10k-respond pointer status array count data length)))))
        (multiple-value-bind (file-status file-body) (file-error-answer code)
          (cond ((gone-p code))
                ((and (pathnamep body) file-status)
                 (respond request file-status '(("content-type" . "text/plain")) file-body))
                (t (check code "respond"))))))))

(defstruct (reply (:constructor make-reply (handle server request)))
  "A deferred HTTP reply: completed once, from any thread, with SEND-REPLY."
  (handle 0 :type (unsigned-byte 64))
  server
  (request nil :read-only t)
  (state :pending :type (member :pending :sent :aborted)))

(setf (documentation 'reply-request 'function)
      "The deferred request, every field copied: readable from any thread.")

(defun reply-aborted-p (reply)
  "True if the client left before REPLY was sent."
  (eq (reply-state reply) :aborted))

(defun defer-reply (request)
  "Keeps REQUEST open after its handler returns, and returns a REPLY that any
thread completes with SEND-REPLY. The handler's return values are then
ignored. Call it in the handler, on the loop thread. Every field of REQUEST
is copied first, so it stays readable."
  (or (%request-reply request)
      (let ((pointer (live-pointer request)))
        (copy-all-fields request)
        (cffi:with-foreign-object (handle :uint64)
          (check (c10k-request-defer pointer handle) "c10k_request_defer")
          (let ((reply (make-reply (cffi:mem-ref handle :uint64) *server* request)))
            (setf (gethash (reply-handle reply) (http-server-replies *server*)) reply
                  (%request-reply request) reply))))))

(defun forget-reply (reply state)
  "Marks REPLY as ended with STATE and drops it from its server's table."
  (setf (reply-state reply) state)
  (remhash (reply-handle reply) (http-server-replies (reply-server reply))))

(defun send-reply (reply status headers body)
  "Completes the deferred REPLY with STATUS, HEADERS (alist) and BODY (as
for a handler's values; a pathname is sent with sendfile). Any thread.
Returns T when the response was handed to the loop, NIL when the client had
already left or REPLY was already sent. Signals C10K-ERROR for a bad
response (a header with CR or LF, for example), which leaves REPLY pending."
  (let ((status (check-status status))
        (handle (reply-handle reply)))
    (unless (eq (reply-state reply) :pending)
      (return-from send-reply nil))
    (with-header-array (array count) headers
      (let ((code (if (pathnamep body)
                      (with-open-file (file body :element-type '(unsigned-byte 8))
                        (sb-sys:without-interrupts
                          (c10k-reply-send-file handle status array count
                                                (sb-sys:fd-stream-fd file) 0 (file-length file))))
                      (with-octets (data length) (body-octets body)
                        (sb-sys:without-interrupts
                          (c10k-reply-send handle status array count data length))))))
        (cond ((zerop code) (forget-reply reply :sent) t)
              ((= code +eclosed+) (forget-reply reply :aborted) nil)
              (t (check code "c10k_reply_send")))))))

(defun fail-request (request)
  "Answers 500 after a handler failed: on the request itself, or on its
reply if it was deferred. Never signals."
  (ignore-errors
   (let ((headers '(("content-type" . "text/plain")))
         (reply (%request-reply request)))
     (if reply
         (when (eq (reply-state reply) :pending)
           (send-reply reply 500 headers "Internal Server Error"))
         (respond request 500 headers "Internal Server Error")))))
