;;;; HTTP servers: handlers called from c10k's on_request, on the loop thread.

(in-package #:c10k)

(defstruct (http-server (:include server)
                        (:constructor make-http-server (handler on-abort on-drain debug)))
  "A server answering HTTP/1.1 requests with a Lisp handler."
  (handler nil :type (or function symbol))
  (on-abort nil :type (or null function symbol))
  (on-drain nil :type (or null function symbol))
  (debug nil)
  (access-log nil)
  (replies (make-hash-table :synchronized t) :read-only t)
  (websockets (make-hash-table :synchronized t) :read-only t))

(defun call-handler (server request)
  "Calls SERVER's handler (a symbol is looked up now, so a redefinition
takes effect at the next request) and answers with its values, unless it
deferred. A condition from the handler or the answer is reported with a
backtrace and answered 500 (the backtrace as text in debug mode); nothing
unwinds out of here, since C frames are below."
  (let ((failure (flet ((call ()
                           (multiple-value-bind (status headers body)
                               (funcall (http-server-handler server) request)
                             (unless (or (%request-reply request) (%request-upgraded request)
                                         (%request-answered request))
                               (respond request status headers body)))))
                   (declare (dynamic-extent #'call))
                   (nth-value 1 (call-capturing-backtrace #'call)))))
    (when failure
      (report-text failure "handler failed on ~A ~A"
                   (ignore-errors (request-method request))
                   (ignore-errors (request-target request)))
      (fail-request request (and (http-server-debug server) failure)))))

(defun handle-request (server pointer)
  "Calls SERVER's handler on the C request POINTER."
  (let ((request (make-request pointer nil)))
    (handler-case
        (flet ((handle (info)
                 (setf (%request-info request) info)
                 (unwind-protect (call-handler server request)
                   (setf (%request-info request) nil))))
          (declare (dynamic-extent #'handle))
          (call-with-request-info pointer #'handle))
      (serious-condition (condition)
        (report condition "reading a request")
        (fail-request request)))
    (setf (%request-pointer request) nil)))

(defun call-reply-hook (function reply what)
  "Calls FUNCTION, the server's hook WHAT, with REPLY, reporting a condition."
  (when function
    (let ((failure (nth-value 1 (call-capturing-backtrace (lambda () (funcall function reply))))))
      (when failure (report-text failure "~A failed" what)))))

(cffi:defcallback http-on-request :void ((user-data :pointer) (pointer :pointer))
  (with-callback-server (user-data)
    (handle-request *server* pointer)))

(cffi:defcallback http-on-requests :void ((user-data :pointer) (requests :pointer) (count :size))
  ;; The requests of one loop turn: on a library thread, SBCL adopts the
  ;; thread once for them all instead of once per request (a dozen system
  ;; calls each time).
  (with-callback-server (user-data)
    (dotimes (i count)
      (handle-request *server* (cffi:mem-aref requests :pointer i)))))

(cffi:defcallback http-on-abort :void ((user-data :pointer) (handle :uint64))
  (with-callback-server (user-data)
    (let ((reply (gethash handle (http-server-replies *server*))))
      (when reply
        (forget-reply reply :aborted)
        (call-reply-hook (http-server-on-abort *server*) reply "on-abort")))))

(cffi:defcallback http-on-drain :void ((user-data :pointer) (handle :uint64))
  (with-callback-server (user-data)
    (let ((reply (gethash handle (http-server-replies *server*))))
      (when reply
        (sb-thread:signal-semaphore (reply-drained reply))
        (call-reply-hook (http-server-on-drain *server*) reply "on-drain")))))

(cffi:defcallback http-on-body :bool ((user-data :pointer) (handle :uint64)
                                      (data :pointer) (length :size) (end :bool))
  (with-callback-server (user-data)
    (let* ((reply (gethash handle (http-server-replies *server*)))
           (stream (and reply (reply-body reply))))
      (if stream
          (body-stream-put stream (view-octets data length) end)
          t))))

(defun announces-body-p (content-length transfer-encoding)
  "True if these header values announce a body (Content-Length above 0, or
any Transfer-Encoding)."
  (or (and content-length (string/= (string-left-trim "0" content-length) ""))
      (and transfer-encoding t)))

(defun request-has-body-p (request)
  "True if REQUEST announced a body (Content-Length above 0, or chunked)."
  (announces-body-p (request-header request "content-length")
                    (request-header request "transfer-encoding")))

(defun request-body-stream (request)
  "With :STREAM-BODIES, the body of REQUEST as a binary input stream that
fills as the client sends it. Call it in the handler: it defers REQUEST
(see DEFER-REPLY), whose reply answers it; read the stream on another
thread, since the loop thread delivers the body. For a request without a
body, an empty stream."
  (if (request-has-body-p request)
      (let ((reply (defer-reply request)))
        (or (reply-body reply)
            (setf (reply-body reply) (make-instance 'body-stream :reply reply))))
      (make-empty-body-stream)))

(defun access-log-fd (destination)
  "The descriptor for the access log DESTINATION, and the stream to close
with the server (or NIL): a pathname or string is opened for appending, an
integer is a descriptor, T or :STDOUT standard output, :STDERR standard
error."
  (etypecase destination
    (null (values -1 nil))
    ((member t :stdout) (values 1 nil))
    ((eql :stderr) (values 2 nil))
    (integer (values destination nil))
    ((or pathname string)
     (let ((stream (open destination :direction :output :if-exists :append
                                     :if-does-not-exist :create
                                     :element-type '(unsigned-byte 8))))
       (values (sb-sys:fd-stream-fd stream) stream)))))

(defun call-with-http-settings (function &key backlog reuse-port max-connections
                                                ((:max-body-bytes body-limit))
                                                ((:keepalive-timeout-ms keepalive))
                                                ((:stream-bodies streaming))
                                                ((:access-log-fd log-fd) -1)
                                                batched)
  "Calls FUNCTION with a c10k_http_config holding these settings (the
library's defaults for those not given) and the c10k_http_callbacks of
every HTTP server, both valid while FUNCTION runs. BATCHED asks for a
turn's requests in one call (on_requests), for servers whose callbacks
run on the library's threads."
  (cffi:with-foreign-objects ((config '(:struct c10k-http-config))
                              (listen '(:struct c10k-listen-options))
                              (callbacks '(:struct c10k-http-callbacks)))
    (c10k-http-config-init config (cffi:foreign-type-size '(:struct c10k-http-config)))
    (c10k-listen-options-init listen (cffi:foreign-type-size '(:struct c10k-listen-options)))
    (setf (cffi:foreign-slot-value config '(:struct c10k-http-config) 'listen) listen)
    (progn
      (when backlog
        (setf (cffi:foreign-slot-value listen '(:struct c10k-listen-options) 'backlog) backlog))
      (when reuse-port
        (setf (cffi:foreign-slot-value listen '(:struct c10k-listen-options) 'reuse-port) t))
      (when max-connections
        (setf (cffi:foreign-slot-value listen '(:struct c10k-listen-options) 'max-connections)
              max-connections)))
    (cffi:with-foreign-slots ((max-body-bytes keepalive-timeout-ms stream-bodies access-log-fd)
                              config (:struct c10k-http-config))
      (when body-limit (setf max-body-bytes body-limit))
      (when keepalive (setf keepalive-timeout-ms keepalive))
      (setf stream-bodies (and streaming t)
            access-log-fd log-fd))
    ;; Every member is set: SIZE covers them all, so the library reads them.
    (cffi:with-foreign-slots ((size on-request on-abort on-body on-drain on-requests on-release)
                              callbacks (:struct c10k-http-callbacks))
      (setf size (cffi:foreign-type-size '(:struct c10k-http-callbacks))
            on-request (cffi:callback http-on-request)
            on-abort (cffi:callback http-on-abort)
            on-body (cffi:callback http-on-body)
            on-drain (cffi:callback http-on-drain)
            on-requests (if batched (cffi:callback http-on-requests) (cffi:null-pointer))
            on-release (cffi:null-pointer)))
    (funcall function config callbacks)))

(defun http-listener (address options)
  "A function opening an HTTP listener on ADDRESS with the settings OPTIONS,
for OPEN-SERVER."
  (lambda (lp user-data out)
    (apply #'call-with-http-settings
           (lambda (config callbacks)
             (c10k-http-listen lp address config callbacks user-data out))
           options)))

(defun handler-designator (thing)
  "THING as the server calls it: a symbol stays a symbol, looked up at each
call (so redefining it takes effect at once); anything else a function."
  (if (and thing (symbolp thing)) thing (and thing (alexandria:ensure-function thing))))

(defun open-http-server (host port handler options
                         &key on-abort on-drain loops debug access-log)
  "An HTTP server listening on HOST:PORT, not yet running: on one loop, or
with LOOPS on a multi-loop c10k_server."
  (let ((server (make-http-server (handler-designator handler) (handler-designator on-abort)
                                  (handler-designator on-drain) debug))
        (address (listen-address host port)))
    (multiple-value-bind (fd log-stream) (access-log-fd access-log)
      (setf (http-server-access-log server) log-stream)
      (let ((options (list* :access-log-fd fd options)))
        (handler-bind ((error (lambda (c) (declare (ignore c))
                                (when log-stream (close log-stream)))))
          (if loops
              (open-multi-loop-server
               server loops
               (lambda (pointer user-data)
                 (apply #'call-with-http-settings
                        (lambda (config callbacks)
                          (c10k-server-http-listen pointer address config callbacks user-data))
                        :batched t options)))
              (open-server server (http-listener address options))))))))

(defparameter *http-server-keys*
  '(:on-abort :on-drain :loops :debug :access-log)
  "The options of START-HTTP-SERVER that are not c10k_http_config settings.")

(defun split-http-options (options)
  "OPTIONS (a plist) as two plists: the server's own, and the settings."
  (loop for (key value) on options by #'cddr
        if (member key *http-server-keys*) nconc (list key value) into own
        else nconc (list key value) into settings
        finally (return (values own settings))))

(defun start-http-server (&rest options &key (host "127.0.0.1") (port 8080) handler on-abort
                                              on-drain loops debug access-log stream-bodies
                                              backlog reuse-port max-connections
                                              max-body-bytes keepalive-timeout-ms)
  "Serves HTTP/1.1 on HOST:PORT (a numeric address; :PORT 0 picks a free port,
see SERVER-PORT) and returns the server; STOP-SERVER ends it.

HANDLER is called with each REQUEST and returns (values status headers
body): HEADERS an alist of strings, BODY a string (UTF-8), an octet vector,
a pathname (sent with sendfile) or NIL. To answer later, from another
thread, or as a stream, call DEFER-REPLY (then SEND-REPLY, or START-REPLY,
WRITE-REPLY and END-REPLY). A handler given as a symbol is looked up at
every request, so redefining it with DEFUN takes effect at once.

A condition signalled by HANDLER gives 500 and is reported with a
backtrace on the *ERROR-OUTPUT* in effect at this call; with DEBUG the 500
carries the condition and the backtrace as text. The server keeps serving.
ON-ABORT, if given, is called with a deferred REPLY whose client left;
ON-DRAIN with a streamed REPLY whose connection drained after WRITE-REPLY
returned :FULL on the loop thread.

ACCESS-LOG writes the library's Common Log Format access log to a file (a
pathname or string, appended to), a descriptor (an integer), standard
output (T or :STDOUT) or :STDERR.

STREAM-BODIES delivers request bodies as they arrive instead of whole: read
them with REQUEST-BODY-STREAM.

Without LOOPS, one loop runs on a new Lisp thread and HANDLER is called
there, so it must not block for long: every connection waits meanwhile.
With LOOPS (an integer; 0 means one per CPU), that many loops run on the
library's threads, each with its own SO_REUSEPORT listener on the port:
HANDLER is then called on several threads at once.

BACKLOG, REUSE-PORT, MAX-CONNECTIONS, MAX-BODY-BYTES and
KEEPALIVE-TIMEOUT-MS set the c10k_http_config fields of those names.

Signals C10K-ERROR if the address cannot be bound."
  (declare (ignore on-abort on-drain loops debug access-log stream-bodies backlog reuse-port
                   max-connections max-body-bytes keepalive-timeout-ms))
  (multiple-value-bind (own settings)
      (split-http-options (alexandria:remove-from-plist options :host :port :handler))
    (start-server-thread (apply #'open-http-server host port handler settings own))))
