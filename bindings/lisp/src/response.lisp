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

(defun respond (request status headers body &key plist)
  "Answers the live REQUEST. BODY is a string (sent as UTF-8), an octet
vector (read in place: a simple one is not copied on the Lisp side), NIL, or
a pathname (sent with sendfile; 404 or 403 if it cannot be opened).
HEADERS is an alist, or with PLIST a plist, of names and values."
  (let* ((pointer (live-pointer request))
         (status (check-status status))
         (code (if (pathnamep body)
                   (with-header-array (array count) (if plist (plist-alist headers) headers)
                     (c10k-respond-path pointer status array count
                                        (uiop:native-namestring (merge-pathnames body))))
                   (with-response-block (array count data length) (headers body :plist plist)
                     (c10k-respond pointer status array count data length)))))
    (setf (%request-answered request) t)
    (multiple-value-bind (file-status file-body) (file-error-answer code)
      (cond ((gone-p code))
            ((and (pathnamep body) file-status)
             (respond request file-status '(("content-type" . "text/plain")) file-body))
            (t (check code "respond"))))))

(defun plist-alist (plist)
  "The header PLIST as an alist."
  (loop for (name value) on plist by #'cddr collect (cons name value)))

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
  "Marks REPLY as ended with STATE, drops it from its server's table and
wakes a writer waiting for it to drain."
  (setf (reply-state reply) state)
  (remhash (reply-handle reply) (http-server-replies (reply-server reply)))
  (sb-thread:signal-semaphore (reply-drained reply))
  (when (and (eq state :aborted) (reply-body reply))
    (body-stream-abort (reply-body reply))))

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
    (when (pathnamep body)
      (return-from send-reply (send-reply-file reply status headers body)))
    (with-header-array (array count) headers
      (reply-outcome reply (with-octets (data length) (body-octets body)
                             (sb-sys:without-interrupts
                               (c10k-reply-send handle status array count data length)))
                     :sent "c10k_reply_send"))))

(defun reply-outcome (reply code state operation)
  "T after CODE of a call that ended REPLY with STATE; NIL (REPLY aborted)
if the client had left; else signals C10K-ERROR."
  (cond ((zerop code) (forget-reply reply state) t)
        ((= code +eclosed+) (forget-reply reply :aborted) nil)
        (t (check code operation))))

(defun send-reply-file (reply status headers path)
  "SEND-REPLY of a file, sent with sendfile: 404 or 403 when it cannot be read."
  (let ((file (handler-case (open path :element-type '(unsigned-byte 8))
                (file-error ()
                  (return-from send-reply-file
                    (send-reply reply (if (probe-file path) 403 404)
                                '(("content-type" . "text/plain"))
                                (if (probe-file path) "Forbidden" "Not Found")))))))
    (with-open-stream (file file)
      (with-header-array (array count) headers
        (reply-outcome reply (sb-sys:without-interrupts
                               (c10k-reply-send-file (reply-handle reply) status array count
                                                     (sb-sys:fd-stream-fd file) 0
                                                     (file-length file)))
                       :sent "c10k_reply_send_file")))))

(defun fail-request (request &optional text)
  "Answers 500 after a handler failed, with TEXT as the body if given: on
the request itself, or on its reply if it was deferred (aborted if its
response had started). Never signals."
  (ignore-errors
   (let ((headers '(("content-type" . "text/plain; charset=utf-8")))
         (body (or text "Internal Server Error"))
         (reply (%request-reply request)))
     (cond
       ((%request-upgraded request))
       (reply
        (case (reply-state reply)
          (:pending (send-reply reply 500 headers body))
          (:streaming (abort-reply reply))))
       (t (respond request 500 headers body))))))

;;; Streamed responses.

(defun start-reply (reply status headers &key content-length)
  "Sends the head of a streamed response to the deferred REPLY: the body
follows with WRITE-REPLY, then END-REPLY. Without CONTENT-LENGTH the body
is sent chunked (close-delimited to HTTP/1.0 clients). Any thread. Returns
T, or NIL if the client had left."
  (check-status status)
  (unless (eq (reply-state reply) :pending)
    (return-from start-reply nil))
  (with-header-array (array count) headers
    (cffi:with-foreign-object (length :uint64)
      (when content-length (setf (cffi:mem-ref length :uint64) content-length))
      (let ((code (sb-sys:without-interrupts
                    (c10k-reply-start (reply-handle reply) status array count
                                      (if content-length length (cffi:null-pointer))))))
        (cond ((zerop code) (setf (reply-state reply) :streaming) t)
              ((= code +eclosed+) (forget-reply reply :aborted) nil)
              (t (check code "c10k_reply_start")))))))

(defun write-reply (reply data)
  "Sends DATA (a string, as UTF-8, or octets) as the next piece of REPLY's
streamed body. On another thread than the loop's it waits, when the
connection's queue is above its high-water mark, until the client has
read enough (backpressure), and returns T, or NIL if the client left. On
the loop thread (in a callback) it never waits and returns :FULL instead:
then wait for the server's :ON-DRAIN."
  (unless (eq (reply-state reply) :streaming)
    (return-from write-reply nil))
  (let ((code (with-octets (pointer length) (body-octets data)
                (sb-sys:without-interrupts
                  (c10k-reply-write (reply-handle reply) pointer length)))))
    (cond ((= code +queue-full+)
           (if *server* :full (wait-for-drain reply)))
          ((zerop code) t)
          ((= code +eclosed+) (forget-reply reply :aborted) nil)
          (t (check code "c10k_reply_write")))))

(defun wait-for-drain (reply)
  "Waits until REPLY's connection drained or the client left; true if the
reply can go on."
  (loop until (or (sb-thread:wait-on-semaphore (reply-drained reply) :timeout 1)
                  (not (eq (reply-state reply) :streaming))
                  (not (server-running-p (reply-server reply)))))
  (eq (reply-state reply) :streaming))

(defun end-reply (reply)
  "Ends REPLY's streamed body. Any thread. T, or NIL if the client had left."
  (when (eq (reply-state reply) :streaming)
    (reply-outcome reply (sb-sys:without-interrupts (c10k-reply-end (reply-handle reply)))
                   :sent "c10k_reply_end")))

(defun abort-reply (reply)
  "Gives up on REPLY, started or not: the connection is reset, so the client
cannot take a cut response for a whole one. Any thread."
  (when (member (reply-state reply) '(:pending :streaming))
    (sb-sys:without-interrupts (c10k-reply-abort (reply-handle reply)))
    (forget-reply reply :aborted)
    t))
