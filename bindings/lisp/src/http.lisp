;;;; HTTP servers: handlers called from c10k's on_request, on the loop thread.

(in-package #:c10k)

(defstruct (http-server (:include server) (:constructor make-http-server (handler on-abort)))
  "A server answering HTTP/1.1 requests with a Lisp handler."
  (handler nil :type function)
  (on-abort nil :type (or null function))
  (replies (make-hash-table :synchronized t) :read-only t))

(defun handle-request (server pointer)
  "Calls SERVER's handler on the C request POINTER and answers with its
values. A condition from the handler or the answer gives 500 and a report;
nothing unwinds out of here, since C frames are below."
  (let ((request (make-request pointer nil)))
    (flet ((fail (condition)
             (report condition "handler failed on ~A ~A"
                     (ignore-errors (request-method request))
                     (ignore-errors (request-target request)))
             (fail-request request)))
      ;; The inner handler reports while the request info is alive, so the
      ;; report can name the method and target; the outer one catches a
      ;; failing c10k_request_get_info.
      (handler-case
          (call-with-request-info
           pointer
           (lambda (info)
             (setf (%request-info request) info)
             (unwind-protect
                  (handler-case
                      (multiple-value-bind (status headers body)
                          (funcall (http-server-handler server) request)
                        (unless (%request-reply request)
                          (respond request status headers body)))
                    (serious-condition (condition) (fail condition)))
               (setf (%request-info request) nil))))
        (serious-condition (condition) (fail condition))))
    (setf (%request-pointer request) nil)))

(cffi:defcallback http-on-request :void ((user-data :pointer) (pointer :pointer))
  (with-callback-server (user-data)
    (handle-request *server* pointer)))

(cffi:defcallback http-on-abort :void ((user-data :pointer) (handle :uint64))
  (with-callback-server (user-data)
    (let ((reply (gethash handle (http-server-replies *server*))))
      (when reply
        (forget-reply reply :aborted)
        (let ((on-abort (http-server-on-abort *server*)))
          (when on-abort
            (handler-case (funcall on-abort reply)
              (serious-condition (condition)
                (report condition "on-abort failed")))))))))

(defun call-with-http-settings (function &key backlog reuse-port max-connections
                                                max-body-bytes keepalive-timeout-ms)
  "Calls FUNCTION with a c10k_http_config holding these settings (the
library's defaults for those not given) and the c10k_http_callbacks of
every HTTP server, both valid while FUNCTION runs."
  (cffi:with-foreign-objects ((config '(:struct c10k-http-config))
                              (listen '(:struct c10k-listen-options))
                              (callbacks '(:struct c10k-http-callbacks)))
    (c10k-http-config-init config)
    (c10k-listen-options-init listen)
    (setf (cffi:foreign-slot-value config '(:struct c10k-http-config) 'listen) listen)
    (progn
      (when backlog
        (setf (cffi:foreign-slot-value listen '(:struct c10k-listen-options) 'backlog) backlog))
      (when reuse-port
        (setf (cffi:foreign-slot-value listen '(:struct c10k-listen-options) 'reuse-port) t))
      (when max-connections
        (setf (cffi:foreign-slot-value listen '(:struct c10k-listen-options) 'max-connections)
              max-connections)))
    (when max-body-bytes
      (setf (cffi:foreign-slot-value config '(:struct c10k-http-config) 'max-body-bytes)
            max-body-bytes))
    (when keepalive-timeout-ms
      (setf (cffi:foreign-slot-value config '(:struct c10k-http-config) 'keepalive-timeout-ms)
            keepalive-timeout-ms))
    ;; Every member is set: SIZE covers them all, so the library reads them.
    (cffi:with-foreign-slots ((size on-request on-abort on-body on-drain on-requests on-release)
                              callbacks (:struct c10k-http-callbacks))
      (setf size (cffi:foreign-type-size '(:struct c10k-http-callbacks))
            on-request (cffi:callback http-on-request)
            on-abort (cffi:callback http-on-abort)
            on-body (cffi:null-pointer)
            on-drain (cffi:null-pointer)
            on-requests (cffi:null-pointer)
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

(defun open-http-server (host port handler on-abort loops options)
  "An HTTP server listening on HOST:PORT, not yet running: on one loop, or
with LOOPS on a multi-loop c10k_server."
  (let ((server (make-http-server (alexandria:ensure-function handler)
                                  (and on-abort (alexandria:ensure-function on-abort))))
        (address (listen-address host port)))
    (if loops
        (open-multi-loop-server
         server loops
         (lambda (pointer user-data)
           (apply #'call-with-http-settings
                  (lambda (config callbacks)
                    (c10k-server-http-listen pointer address config callbacks user-data))
                  options)))
        (open-server server (http-listener address options)))))

(defun start-http-server (&rest options &key (host "127.0.0.1") (port 8080) handler on-abort
                                              loops backlog reuse-port max-connections
                                              max-body-bytes keepalive-timeout-ms)
  "Serves HTTP/1.1 on HOST:PORT (a numeric address; :PORT 0 picks a free port,
see SERVER-PORT) and returns the server; STOP-SERVER ends it.

HANDLER is called with each REQUEST and returns (values status headers
body): HEADERS an alist of strings, BODY a string (UTF-8), an octet vector,
a pathname (sent with sendfile) or NIL. To answer later or from another
thread, call DEFER-REPLY. A condition signalled by HANDLER gives 500 and is
reported on the *ERROR-OUTPUT* in effect at this call; the server keeps
serving. ON-ABORT, if given, is called with a deferred REPLY whose client
left.

Without LOOPS, one loop runs on a new Lisp thread and HANDLER is called
there, so it must not block for long: every connection waits meanwhile.
With LOOPS (an integer; 0 means one per CPU), that many loops run on the
library's threads, each with its own SO_REUSEPORT listener on the port:
HANDLER is then called on several threads at once.

BACKLOG, REUSE-PORT, MAX-CONNECTIONS, MAX-BODY-BYTES and
KEEPALIVE-TIMEOUT-MS set the c10k_http_config fields of those names.

Signals C10K-ERROR if the address cannot be bound."
  (declare (ignore backlog reuse-port max-connections max-body-bytes keepalive-timeout-ms))
  (start-server-thread
   (open-http-server host port handler on-abort loops
                     (alexandria:remove-from-plist options :host :port :handler :on-abort
                                                   :loops))))
