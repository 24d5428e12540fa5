;;;; HTTP requests: Lisp values read out of the borrowed c10k_request.
;;;;
;;;; One c10k_request_get_info call per request fills a c10k_request_info on
;;;; the stack with the method, target, path, query, body, version,
;;;; keep-alive, header count, target form, scheme and effective host and
;;;; port: the accessors decode from it without further calls into C.
;;;; Those views die when on_request returns, so each accessor copies what
;;;; it reads and keeps the copy: a field read during the handler stays
;;;; readable afterwards; DEFER-REPLY copies all of them, so a deferred
;;;; request can be read from any thread. Reading an uncopied field later
;;;; is an error, never a read of freed memory.

(in-package #:c10k)

(defstruct (request (:constructor make-request (pointer info)) (:conc-name %request-))
  "An HTTP request given to a handler."
  (pointer nil :type (or null cffi:foreign-pointer))
  (info nil :type (or null cffi:foreign-pointer))
  (method '%unread)
  (target '%unread)
  (path '%unread)
  (query '%unread)
  (headers '%unread)
  (body '%unread)
  (peer '%unread)
  (http-minor '%unread)
  (keep-alive-p '%unread)
  (target-form '%unread)
  (scheme '%unread)
  (host '%unread)
  (port '%unread)
  (reply nil)
  (upgraded nil)
  (answered nil))

(defun call-with-request-info (pointer function)
  "Calls FUNCTION with a stack c10k_request_info filled from the C request
POINTER, valid while FUNCTION runs."
  (cffi:with-foreign-object (info '(:struct c10k-request-info))
    (setf (cffi:foreign-slot-value info '(:struct c10k-request-info) 'size)
          (load-time-value (cffi:foreign-type-size '(:struct c10k-request-info)) t))
    (check (c10k-request-get-info pointer info) "c10k_request_get_info")
    (funcall function info)))

(defun expired ()
  (error "This request's handler has returned, and the field was not read ~
          during it: read it in the handler, or call DEFER-REPLY, which ~
          copies every field."))

(defun live-pointer (request)
  "The C request behind REQUEST; an error once its handler has returned."
  (or (%request-pointer request) (expired)))

(defun live-info (request)
  "REQUEST's c10k_request_info; an error once its handler has returned."
  (or (%request-info request) (expired)))

(defmacro define-field (name slot documentation &body reader)
  "Defines NAME, returning REQUEST's SLOT, computed once by READER (which sees
INFO, the live c10k_request_info, and POINTER, the live C request, each
fetched only if READER uses it) and cached."
  `(defun ,name (request)
     ,documentation
     (let ((value (,slot request)))
       (if (eq value '%unread)
           (setf (,slot request)
                 (symbol-macrolet ((info (live-info request))
                                   (pointer (live-pointer request)))
                   ,@reader))
           value))))

(defmacro info-slot (info slot)
  "The member SLOT of the c10k_request_info at INFO."
  `(cffi:foreign-slot-value ,info '(:struct c10k-request-info) ',slot))

(defmacro info-view (info pointer-slot length-slot &optional (decode '#'view-string))
  "The view POINTER-SLOT, LENGTH-SLOT of INFO, DECODEd."
  (let ((i (gensym "INFO")))
    `(let ((,i ,info))
       (funcall ,decode (info-slot ,i ,pointer-slot) (info-slot ,i ,length-slot)))))

(defparameter *methods*
  (mapcar (lambda (k) (cons (symbol-name k) k))
          '(:get :head :post :put :delete :patch :options :connect :trace))
  "Methods returned as keywords; others stay strings, so that clients cannot
intern symbols at will.")

(defun view-method (pointer length)
  "The method at POINTER, LENGTH bytes, as REQUEST-METHOD returns it: one of
*METHODS* is found by its bytes, without making a string."
  (declare (optimize speed) (type sb-sys:system-area-pointer pointer) (type fixnum length))
  (flet ((is (name)
           (declare (simple-string name))
           (and (= length (length name))
                (dotimes (i length t)
                  (unless (= (sb-sys:sap-ref-8 pointer i) (char-code (schar name i)))
                    (return nil))))))
    (loop for (name . keyword) in *methods*
          when (is name) return keyword
          finally (return (view-string pointer length)))))

(define-field request-method %request-method
  "The method as a keyword (:GET, :POST, ...); an uncommon method as its string."
  (info-view info method method-len #'view-method))

(define-field request-target %request-target
  "The request target as sent, \"/path?query\", not decoded."
  (info-view info target target-len))

(define-field request-path %request-path
  "The target's path, not decoded (see URL-DECODE)."
  (info-view info path path-len))

(define-field request-query %request-query
  "The query after ?, not decoded (see URL-DECODE :PLUS-AS-SPACE T); NIL if none."
  (let ((info info))
    (unless (cffi:null-pointer-p (info-slot info query))
      (info-view info query query-len))))

(define-field request-body %request-body
  "The body as a fresh octet vector (empty if none)."
  (info-view info body body-len #'view-octets))

(declaim (inline c-string-length))
(defun c-string-length (pointer limit)
  "The length of the NUL-terminated string at POINTER, at most LIMIT."
  (declare (optimize speed) (type sb-sys:system-area-pointer pointer) (type fixnum limit))
  (dotimes (i limit limit)
    (when (zerop (sb-sys:sap-ref-8 pointer i)) (return i))))

(defmacro with-peer-text ((text length) request &body body)
  "Runs BODY with TEXT, a stack buffer holding REQUEST's client address as
c10k writes it (\"1.2.3.4:5\", \"[::1]:5\"), and LENGTH its length."
  `(cffi:with-foreign-pointer (,text +addrstrlen+)
     (check (c10k-request-peer-addr (live-pointer ,request) ,text +addrstrlen+)
            "c10k_request_peer_addr")
     (let ((,length (c-string-length ,text +addrstrlen+)))
       ,@body)))

(define-field request-peer %request-peer
  "The client's address, \"127.0.0.1:50000\"."
  (with-peer-text (text length) request
    (view-string text length)))

(defun split-address (text)
  "\"name:port\" (or \"[v6]:port\") as two values: the name without
brackets, and the port (an integer; NIL if there is none)."
  (declare (string text))
  (let* ((bracket (position #\] text))
         (colon (position #\: text :from-end t :start (or bracket 0)))
         (start (if (and (plusp (length text)) (char= (char text 0) #\[)) 1 0)))
    (values (subseq text start (or bracket colon))
            (and colon (parse-integer text :start (1+ colon) :junk-allowed t)))))

(defun split-address-view (pointer length cache index)
  "SPLIT-ADDRESS of the LENGTH bytes at POINTER, an address c10k wrote; the
name is made by VIEW-STRING-SHARED with CACHE and INDEX if CACHE is given."
  (declare (optimize speed) (type sb-sys:system-area-pointer pointer) (type fixnum length))
  (let* ((colon (loop for i of-type fixnum from (1- length) downto 0
                      when (= (sb-sys:sap-ref-8 pointer i) #.(char-code #\:)) return i))
         (bracketed (and (plusp length) (= (sb-sys:sap-ref-8 pointer 0) #.(char-code #\[))))
         (end (cond ((null colon) length)
                    (bracketed (1- colon))
                    (t colon))))
    (values (let ((start (if bracketed (sb-sys:sap+ pointer 1) pointer))
                  (length (if bracketed (1- end) end)))
              (if cache
                  (view-string-shared cache index start length)
                  (view-string start length)))
            (and colon
                 (< (1+ colon) length)
                 (loop with port of-type fixnum = 0
                       for i of-type fixnum from (1+ colon) below length
                       for digit = (- (sb-sys:sap-ref-8 pointer i) #.(char-code #\0))
                       unless (<= 0 digit 9) return port
                       do (setf port (+ (* port 10) digit))
                       finally (return port))))))

(defun request-remote (request &optional cache index)
  "The client's address and port, as two values (\"127.0.0.1\" 50000).
With CACHE, the address may be a string shared with earlier requests
(see VIEW-STRING-SHARED)."
  (let ((peer (%request-peer request)))
    (if (eq peer '%unread)
        (with-peer-text (text length) request
          (split-address-view text length cache index))
        (split-address peer))))

(define-field request-http-minor %request-http-minor
  "The HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0."
  (info-slot info version-minor))

(define-field request-keep-alive-p %request-keep-alive-p
  "True if the connection stays open after this request."
  (info-slot info keep-alive))

(define-field request-target-form %request-target-form
  "The form of the request target (RFC 9112 section 3.2): :ORIGIN
(\"/path?query\"), :ABSOLUTE (\"http://host/path?query\"), :AUTHORITY
(CONNECT's \"host:port\") or :ASTERISK (OPTIONS's \"*\")."
  (let ((form (info-slot info target-form)))
    (cond ((= form +target-origin+) :origin)
          ((= form +target-absolute+) :absolute)
          ((= form +target-authority+) :authority)
          (t :asterisk))))

(define-field request-scheme %request-scheme
  "\"http\" or \"https\" (lower case) when an absolute-form target names
one; NIL otherwise (the connection itself is plain HTTP)."
  (let ((info info))
    (unless (cffi:null-pointer-p (info-slot info scheme))
      (string-downcase (info-view info scheme scheme-len)))))

(define-field request-host %request-host
  "The host the request is for (RFC 9112 section 3.3): an absolute-form
target's authority, else the Host field's; without the port, an IPv6
literal in brackets. NIL only for an HTTP/1.0 request without Host."
  (let ((info info))
    (unless (cffi:null-pointer-p (info-slot info host))
      (info-view info host host-len))))

(define-field request-port %request-port
  "The port named with REQUEST-HOST, an integer; NIL when none is named."
  (let ((port (info-slot info port)))
    (and (>= port 0) port)))

(define-field request-headers %request-headers
  "The header fields as an alist of strings (name . value), in arrival order,
names as the client spelled them."
  (cffi:with-foreign-objects ((name :pointer) (name-length :size)
                              (value :pointer) (value-length :size))
    (loop with pointer = pointer
          for i below (info-slot info header-count)
          do (check (c10k-request-header-at pointer i name name-length value value-length)
                    "c10k_request_header_at")
          collect (cons (view-string (cffi:mem-ref name :pointer) (cffi:mem-ref name-length :size))
                        (view-string (cffi:mem-ref value :pointer) (cffi:mem-ref value-length :size))))))

(defun request-header (request name)
  "The value of the first header field called NAME (a string or symbol,
compared case-insensitively), or NIL."
  (let ((name (header-text name))
        (headers (%request-headers request)))
    (if (eq headers '%unread)
        (cffi:with-foreign-objects ((data :pointer) (length :size))
          (let ((code (c10k-request-header (live-pointer request) name data length)))
            (unless (= code +enoent+)
              (check code "c10k_request_header")
              (view-string (cffi:mem-ref data :pointer) (cffi:mem-ref length :size)))))
        (cdr (assoc name headers :test #'string-equal)))))

(defun request-body-string (request)
  "The body decoded as UTF-8."
  (let ((babel-encodings:*suppress-character-coding-errors* t))
    (babel:octets-to-string (request-body request) :encoding :utf-8)))

(defun copy-all-fields (request)
  "Reads every field of REQUEST, so that it outlives its C request."
  (dolist (reader '(request-method request-target request-path request-query
                    request-headers request-body request-peer request-http-minor
                    request-keep-alive-p request-target-form request-scheme
                    request-host request-port))
    (funcall reader request))
  request)

(defmethod print-object ((request request) stream)
  (print-unreadable-object (request stream :type t :identity t)
    (let ((method (%request-method request)) (target (%request-target request)))
      (unless (or (eq method '%unread) (eq target '%unread))
        (format stream "~A ~A" method target)))))

(defstruct (reply (:constructor make-reply (handle server request)))
  "A deferred HTTP reply: completed once, from any thread, with SEND-REPLY,
or streamed with START-REPLY, WRITE-REPLY and END-REPLY."
  (handle 0 :type (unsigned-byte 64))
  server
  (request nil :read-only t)
  (state :pending :type (member :pending :streaming :sent :aborted))
  (drained (sb-thread:make-semaphore :name "c10k drain") :read-only t)
  (body nil))

(setf (documentation 'reply-request 'function)
      "The deferred request, every field copied: readable from any thread.")
